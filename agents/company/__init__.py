"""The software company: its documents, its roles and their actions, and the SOP that wires them."""
