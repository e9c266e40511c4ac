# Image for web, Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=gigmarket.settings.production
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN GIGMARKET_SECRET_KEY=build GIGMARKET_ALLOWED_HOSTS=build GIGMARKET_FIELD_ENCRYPTION_KEYS=ZmFrZS1rZXktZm9yLWNvbGxlY3RzdGF0aWMtb25seS0xMjM0NTY= \
    GIGMARKET_BLIND_INDEX_KEY=build GIGMARKET_REDIS_URL=redis://build GIGMARKET_DATABASE_URL=postgres://build/build \
    python manage.py collectstatic --no-input -v 0
RUN useradd --system --uid 1000 gig && mkdir -p /app/media && chown gig /app/media
USER gig
EXPOSE 8000
# Workers, listen queue, timeouts: gigmarket/gunicorn_conf.py (why each value: its docstring).
CMD ["gunicorn", "gigmarket.wsgi:application", "-c", "gigmarket/gunicorn_conf.py"]
