import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

// Just enough LDAPv3 BER (RFC 4511) to answer an anonymous search as a hostile directory would: as many
// entries, as large, as it likes, whatever size limit the client asked for.

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...values: Buffer[]): Buffer {
  const value = Buffer.concat(values);
  return Buffer.concat([Buffer.from([tag]), length(value.length), value]);
}

const octets = (value: Buffer | string) => tlv(0x04, Buffer.isBuffer(value) ? value : Buffer.from(value));
const integer = (value: number) => tlv(0x02, Buffer.from([value & 0x7f]));
const message = (id: number, op: Buffer) => tlv(0x30, integer(id), op);

function searchEntry(id: number, dn: string, certificate: Buffer): Buffer {
  const attribute = tlv(0x30, octets("cACertificate;binary"), tlv(0x31, octets(certificate)));
  return message(id, tlv(0x64, octets(dn), tlv(0x30, attribute)));
}

const searchDone = (id: number) => message(id, tlv(0x65, tlv(0x0a, Buffer.from([0])), octets(""), octets("")));

/** The message id of a search request (operation tag 0x63) with a one-byte id; undefined for anything else. */
function searchRequestId(data: Buffer): number | undefined {
  if (data[0] !== 0x30) return undefined;
  const offset = data[1] & 0x80 ? 2 + (data[1] & 0x7f) : 2;
  return data[offset] === 0x02 && data[offset + 1] === 1 && data[offset + 3] === 0x63 ? data[offset + 2] : undefined;
}

export interface HostileDirectory {
  url: string;
  /** Bytes the directory managed to write before the client hung up. */
  bytesWritten: () => number;
  close: () => void;
}

/**
 * A directory that answers any search with `entries` entries, each a `certificate` value, written as fast as the
 * client reads them; it stops writing when the client closes the connection.
 */
export async function hostileDirectory(entries: number, certificate: Buffer): Promise<HostileDirectory> {
  let written = 0;
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    socket.on("data", async (data) => {
      const id = searchRequestId(data);
      if (id === undefined) return;
      for (let index = 0; index < entries && !socket.destroyed; index++) {
        const entry = searchEntry(id, `cn=CA ${index},cn=Certification Authorities`, certificate);
        written += entry.length;
        if (!socket.write(entry)) await new Promise((resolve) => socket.once("drain", resolve).once("close", resolve));
      }
      if (!socket.destroyed) socket.write(searchDone(id));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `ldap://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytesWritten: () => written,
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      server.close();
    },
  };
}
