"""TrainConfig: every setting declared once with its flag and checks; flags; recipes."""
