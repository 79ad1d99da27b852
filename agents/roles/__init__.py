"""The software company's roles, one module per role."""

from agents.roles.architect import Architect
from agents.roles.product_manager import ProductManager
from agents.roles.project_manager import ProjectManager

__all__ = ["Architect", "ProductManager", "ProjectManager"]
