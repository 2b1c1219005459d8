"""Participatory budgets: phases, projects, verified and secret ballots, and the voting rules (approval with a greedy
or an exact knapsack count, and the Method of Equal Shares with its "add 1" completion)."""
