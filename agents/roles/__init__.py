"""The software company's roles, one module per role."""

from agents.roles.architect import Architect
from agents.roles.engineer import Engineer
from agents.roles.product_manager import ProductManager
from agents.roles.project_manager import ProjectManager
from agents.roles.qa_engineer import QaEngineer

__all__ = ["Architect", "Engineer", "ProductManager", "ProjectManager", "QaEngineer"]
