// PM2: the same processes as docker-compose.yml, without containers.
// Install the package in a virtualenv first (`make install`), set the
// environment (JWT_SECRET, SECRET_KEY_ONE, REDIS_URL, MONGO_URL, ...), then
// `pm2 start ecosystem.config.js`. Redis and MongoDB run outside PM2.
const bin = `${__dirname}/.venv/bin`;

module.exports = {
  apps: [
    {
      name: "mysocial-api",
      script: `${bin}/mysocial`,
      args: "serve",
      interpreter: "none",
      instances: 2,
      exec_mode: "fork",
      // Each instance listens on its own port (PORT + instance id); put a load balancer in front.
      increment_var: "PORT",
      env: { NODE_ENV: "production", PORT: 5001 },
      kill_timeout: 35000,
    },
    {
      name: "mysocial-worker",
      script: `${bin}/mysocial`,
      args: "worker",
      interpreter: "none",
      instances: 2,
      exec_mode: "fork",
      env: { NODE_ENV: "production" },
      kill_timeout: 70000,
    },
    {
      name: "mysocial-scheduler",
      script: `${bin}/mysocial`,
      args: "scheduler",
      interpreter: "none",
      instances: 1,
      env: { NODE_ENV: "production" },
    },
    {
      name: "rq-dashboard",
      script: `${bin}/rq-dashboard`,
      args: "--port 9181 --bind 127.0.0.1",
      interpreter: "none",
      instances: 1,
      // Set RQ_DASHBOARD_REDIS_URL, RQ_DASHBOARD_USERNAME and RQ_DASHBOARD_PASSWORD in the environment.
    },
  ],
};
