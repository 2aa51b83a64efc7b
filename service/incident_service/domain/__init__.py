"""Pure domain logic: no I/O. Takes state and a command, returns new state and events."""
