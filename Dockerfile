# deepaas serving every installed module (the demo by default).
# Build: docker build -t deepaas .   Run: docker run -p 5000:5000 deepaas
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/deepaas

COPY pyproject.toml README.md ./
COPY deepaas ./deepaas
COPY plugins ./plugins
RUN pip install --no-cache-dir . ./plugins/demo

# Install your own module here, e.g.: RUN pip install --no-cache-dir my-module
EXPOSE 5000
# deepaas-run stops cleanly on SIGTERM, so `docker stop` needs no SIGKILL.
CMD ["deepaas-run", "--listen-ip", "0.0.0.0", "--listen-port", "5000"]
