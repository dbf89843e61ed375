import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { environments } from "../../environments/environments";
import { tlsOptions } from "../src/database";
import { RunningApi } from "../harness/api";

jest.setTimeout(30_000);

/** The CA the stack pins on the database (lib/database/database.ts `caCertIdentifier`): rds-ca-rsa2048-g1. */
const PINNED_CA_NAME = (region: string) => `Amazon RDS ${region} Root CA RSA2048 G1`;

describe("TLS to RDS", () => {
  const options = tlsOptions({ DB_SSL_MODE: "verify-full" }) as tls.ConnectionOptions;

  it("verify-full trusts only AWS's database certificate authorities, and checks the server's name", () => {
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.checkServerIdentity).toBeUndefined();
    const subjects = (options.ca as string[]).map((pem) => new X509Certificate(pem).subject);
    // RDS's own roots, plus Amazon Trust Services' (and its Starfield cross-sign), which RDS Proxy uses.
    for (const subject of subjects) expect(subject).toMatch(/OU=Amazon RDS|O=Amazon\n|O=Starfield Technologies/);
    expect(subjects.filter((s) => s.includes("OU=Amazon RDS")).length).toBeGreaterThan(50);
  });

  it.each(environments.map((e) => [e.name, e.region ?? "us-east-1"]))("the bundle has the root CA the database uses in %s (%s)", (_, region) => {
    const names = (options.ca as string[]).map((pem) => new X509Certificate(pem).subject);
    expect(names.some((s) => s.includes(`CN=${PINNED_CA_NAME(region)}`))).toBe(true);
  });

  it("disable turns TLS off", () => {
    expect(tlsOptions({ DB_SSL_MODE: "disable" })).toBe(false);
  });

  describe("against a server whose certificate is not from an RDS CA", () => {
    let dir: string;
    let server: net.Server;
    let port: number;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "notes-tls-"));
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:P-256",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      const key = readFileSync(path.join(dir, "key.pem"));
      const cert = readFileSync(path.join(dir, "cert.pem"));
      // Speaks just enough PostgreSQL to accept the client's SSLRequest, then offers the certificate.
      server = net.createServer((socket) => {
        socket.once("data", () => {
          socket.write("S");
          const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
          secure.on("error", () => socket.destroy());
        });
        socket.on("error", () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    it("the API refuses the connection and does not start", async () => {
      const api = await RunningApi.start(
        { APP_ENV: "test", DB_HOST: "127.0.0.1", DB_PORT: String(port), DB_NAME: "app", DB_USERNAME: "app", DB_PASSWORD: "pw" },
        { waitForListening: false },
      );
      expect(await api.exitCode()).toBe(1);
      expect(api.stderr.join("\n")).toMatch(/self-signed certificate/);
    });
  });
});
