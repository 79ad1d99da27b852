"""The software company's roles, one module per role."""

from agents.company.roles.architect import Architect
from agents.company.roles.engineer import Engineer
from agents.company.roles.product_manager import ProductManager
from agents.company.roles.project_manager import ProjectManager
from agents.company.roles.qa_engineer import QaEngineer

__all__ = ["Architect", "Engineer", "ProductManager", "ProjectManager", "QaEngineer"]
