"""Pages of mobilization, one module per concept; `people.mobilization.urls` routes them."""
