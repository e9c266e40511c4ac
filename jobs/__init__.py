"""Jobs: the trade catalogue (工种); posts, claims, orders and contracts come with the jobs issue."""
