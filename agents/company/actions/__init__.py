"""The actions of the software company's roles, one module per action."""
