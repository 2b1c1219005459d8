"""The public transparency page (/transparency) and the contacts for objections."""
