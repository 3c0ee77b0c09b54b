"""Django apps whose migrations exercise migrate_phase: good, bad and unmarked ones."""
