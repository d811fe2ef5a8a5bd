"""What the chapters draw with: grids, windows and animations."""
