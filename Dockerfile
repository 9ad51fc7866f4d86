FROM python:3.13-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mysocial mysocial
COPY queues queues
COPY workers workers
RUN pip install --no-cache-dir .
ENV PORT=5000
EXPOSE 5000
CMD ["mysocial", "serve"]
