"""Readers of flight logs (.tlog): scan, columns, frames, info, export, compare."""
