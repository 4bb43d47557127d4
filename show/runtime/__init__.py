"""The running show: the runner, its wiring, MIDI, reload, logging and the tracking backup."""
