raise ValueError("y" * 30_000_000)
