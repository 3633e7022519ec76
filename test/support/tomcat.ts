import { request } from "node:https";
import type { Lab, LabHost } from "./lab";
import { waitUntil } from "./wait";

// Debian's Tomcat 10 inside a lab host (labctl.sh's trl-lab-tomcat runs it from /var/lib/trl-tomcat): an HTTPS
// connector on the lab's server certificate that requires a client certificate its truststore trusts.

export const TOMCAT_PORT = 8443;

export interface TomcatTruststore {
  path: string;
  password: string;
  /** A root the truststore holds before any apply (the administrator's own): keytool makes the file with it. */
  initialPem: string;
}

/** Configure and start Tomcat on the host; resolves once its connector listens. */
export async function startTomcat(lab: Lab, host: LabHost, truststore: TomcatTruststore): Promise<void> {
  await lab.writeFile(host, "/tmp/initial-root.crt", truststore.initialPem);
  await lab.sh(host, `mkdir -p "$(dirname '${truststore.path}')"`);
  await lab.exec(host, "keytool", "-importcert", "-noprompt", "-alias", "admins-root", "-file", "/tmp/initial-root.crt", "-keystore", truststore.path, "-storetype", "PKCS12", "-storepass", truststore.password);
  await lab.sh(host, "mkdir -p /var/lib/trl-tomcat/conf /var/lib/trl-tomcat/logs /var/lib/trl-tomcat/temp /var/lib/trl-tomcat/work /var/lib/trl-tomcat/webapps/ROOT && cp /etc/tomcat10/web.xml /var/lib/trl-tomcat/conf/");
  await lab.writeFile(host, "/var/lib/trl-tomcat/webapps/ROOT/index.html", "tomcat ok\n");
  await lab.writeFile(
    host,
    "/var/lib/trl-tomcat/conf/server.xml",
    `<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="${TOMCAT_PORT}" address="${host.address}" protocol="org.apache.coyote.http11.Http11NioProtocol" SSLEnabled="true" maxThreads="4">
      <SSLHostConfig certificateVerification="required" truststoreFile="${truststore.path}" truststorePassword="${truststore.password}" truststoreType="PKCS12">
        <Certificate certificateFile="/etc/trl-lab/server.crt" certificateKeyFile="/etc/trl-lab/server.key"/>
      </SSLHostConfig>
    </Connector>
    <Engine name="Catalina" defaultHost="localhost"><Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/></Engine>
  </Service>
</Server>
`,
  );
  await lab.exec(host, "trl-lab-tomcat", "start");
  await listening(lab, host);
}

/** Up is when the connector answers TLS at all (refused: the port is not open yet, or not again after a restart). */
function listening(lab: Lab, host: LabHost): Promise<void> {
  return waitUntil(async () => (await tomcatAnswer(lab, host, undefined)) !== "ECONNREFUSED", "Tomcat's connector listens");
}

/** tomcatAnswer once the connector listens: after a restart nothing else says when Tomcat is back. */
export async function settledTomcatAnswer(lab: Lab, host: LabHost, client: { cert: string; key: string }): Promise<number | string> {
  await listening(lab, host);
  return tomcatAnswer(lab, host, client);
}

/** GET https://host:8443/ presenting the client certificate: the HTTP status, or the error code of a refused handshake. */
export function tomcatAnswer(lab: Lab, host: LabHost, client: { cert: string; key: string } | undefined): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: host.address, port: TOMCAT_PORT, path: "/", ca: lab.serverCa, cert: client?.cert, key: client?.key, agent: false, timeout: 10_000 }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}
