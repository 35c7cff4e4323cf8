"""Demo data: data.py makes it (pure values), load.py writes it to the database."""
