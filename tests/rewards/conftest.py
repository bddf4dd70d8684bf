import pytest

from points import services as points_services
from rewards.models import Product
from tests.conftest import create_staff


@pytest.fixture
def staff(django_user_model):
    return create_staff(username="staff")


@pytest.fixture
def fund(staff):
    def fund(expert, points: int):
        points_services.points_adjust(
            expert=expert,
            amount=points,
            reason="Starting balance",
            staff_member=staff,
            idempotency_key=f"fund-{expert.pk}",
        )
        return expert

    return fund


@pytest.fixture
def make_product(db):
    def make(**fields) -> Product:
        defaults = {"name": "Stride Sport earbuds", "points_cost": 100, "stock": 10}
        return Product.objects.create(**{**defaults, **fields})

    return make
