"""Scripts that print figures (speed, memory, accuracy). Run each from the repository root as
`python -m bench.<name>` with the project's venv: they import the installed `cielo` and, for loopback servers,
`tests.support`."""
