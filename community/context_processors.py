from django.conf import settings


def brand(request) -> dict:
    return {
        "brand_name": settings.BRAND_NAME,
        # "Amsterdam" for Europe/Amsterdam: pages name the zone their times are in.
        "time_zone_city": settings.TIME_ZONE.rsplit("/", 1)[-1].replace("_", " "),
    }
