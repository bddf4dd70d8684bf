from django.conf import settings


def brand(request) -> dict:
    return {"brand_name": settings.BRAND_NAME}
