FROM python:3.13-slim
WORKDIR /app
# The runtime dependencies, pinned (requirements.lock: `sh scripts/lock` makes it anew), then the package.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY mysocial mysocial
COPY queues queues
COPY workers workers
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --create-home --uid 10001 mysocial \
    && mkdir -p /data && chown mysocial /data
USER mysocial
ENV PORT=5000
EXPOSE 5000
CMD ["mysocial", "serve"]
