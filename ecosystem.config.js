// PM2: the same processes as docker-compose.yml, without containers.
//   make install                      # the virtualenv .venv beside this file
//   export JWT_SECRET=… SECRET_KEY_ONE=… REDIS_URL=… MONGO_URL=… RQ_DASHBOARD_PASSWORD=…
//   export API_URL=https://api.example.com   # the public URL of the API (media links)
//   pm2 start ecosystem.config.js
// Redis and MongoDB run outside PM2. The two API instances listen on PORT and PORT+1 (5001, 5002);
// put a load balancer in front. `pm2 reload mysocial-api` restarts them one at a time: the next
// goes only once the new one listens (wait_ready: the API tells PM2 when it is ready).
// Logs: every process writes JSON lines to its standard output, so to PM2's out log
// (~/.pm2/logs/<name>-out.log); `pm2 install pm2-logrotate` rotates them.
const path = require("path");

const bin = path.join(__dirname, ".venv", "bin", "mysocial");
const shared = {
  NODE_ENV: "production",
  API_URL: process.env.API_URL || "http://localhost:5001",
  MEDIA_DIR: process.env.MEDIA_DIR || path.join(__dirname, "media"),
  OUTBOX_DIR: process.env.OUTBOX_DIR || path.join(__dirname, "outbox"),
};

module.exports = {
  apps: [
    {
      name: "mysocial-api",
      script: bin,
      args: "serve",
      interpreter: "none",
      instances: 2,
      exec_mode: "fork",
      increment_var: "PORT",
      env: { ...shared, PORT: process.env.PORT || 5001 },
      wait_ready: true,
      listen_timeout: 30000,
      kill_timeout: 35000,
    },
    {
      name: "mysocial-worker",
      script: bin,
      args: "worker",
      interpreter: "none",
      instances: 2,
      exec_mode: "fork",
      env: shared,
      kill_timeout: 70000,
    },
    {
      name: "mysocial-scheduler",
      script: bin,
      args: "scheduler",
      interpreter: "none",
      instances: 1,
      env: shared,
    },
    {
      name: "mysocial-dashboard",
      script: bin,
      args: `dashboard --port ${process.env.DASHBOARD_PORT || 9181}`,
      interpreter: "none",
      instances: 1,
      env: shared,
    },
  ],
};
