"""The agent framework: messages, memory, roles, actions, the environment and the team.

It knows nothing of the company that runs on it; the company's roles and documents live in
`agents/company/`.
"""
