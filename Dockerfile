# Two images from one file (compose.yaml builds both):
#   app: Daphne, the job worker and the scheduler; exactly the versions CI tested.
#   web: nginx with the hashed static files of the same build.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 app \
    && mkdir -p /run/app /app/media && chown app:app /run/app /app/media
WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY --chown=app:app . .
# Hashed static files at build time; the key and database exist only for this step.
RUN DEBUG=0 SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:///:memory: STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput -v 0

USER app
ENV STATIC_ROOT=/app/staticfiles MEDIA_ROOT=/app/media
CMD ["python", "-m", "daphne", "-u", "/run/app/daphne-1.sock", "config.asgi:application"]

FROM nginx:1.27 AS web
COPY --from=app /app/staticfiles /app/staticfiles
COPY deploy/nginx.conf /deploy/nginx.conf
