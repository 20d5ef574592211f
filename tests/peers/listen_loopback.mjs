// Preloaded (`node --import ./listen_loopback.mjs ...`) into a third-party server
// whose listen() we cannot configure: its first listen() binds 127.0.0.1 on the
// port in PEER_PORT (0 or unset: one the OS picks) and prints
// `LISTENING http://127.0.0.1:<port>/mcp` on stdout once it accepts connections.
// The process exits when its stdin closes, so a harness never leaves it behind.
import net from "node:net";
import process from "node:process";

const listen = net.Server.prototype.listen;
let claimed = false;

net.Server.prototype.listen = function (...args) {
  if (claimed) return listen.apply(this, args);
  claimed = true;
  const callback = args.find((arg) => typeof arg === "function");
  this.once("listening", () => {
    process.stdout.write(`LISTENING http://127.0.0.1:${this.address().port}/mcp\n`);
  });
  const port = Number(process.env.PEER_PORT || 0);
  return callback
    ? listen.call(this, { port, host: "127.0.0.1" }, callback)
    : listen.call(this, { port, host: "127.0.0.1" });
};

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
