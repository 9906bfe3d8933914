// Which peers may supply X-Forwarded-* / X-Real-IP (issue 2 item 6: only --trusted-proxies).

import { BlockList, isIP } from 'node:net';

export class TrustedProxies {
  #list = new BlockList();
  #empty = true;

  /** Throws with a clear message on a malformed CIDR. */
  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split('/');
      const family = isIP(addr);
      if (family === 0) throw new Error(`invalid CIDR ${JSON.stringify(c)}: not an IP address`);
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) {
        throw new Error(`invalid CIDR ${JSON.stringify(c)}: prefix length must be 0-${max}`);
      }
      this.#list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
      this.#empty = false;
    }
  }

  trusts(address: string): boolean {
    if (this.#empty || !address) return false;
    const family = isIP(address);
    if (family === 0) return false;
    if (family === 6 && address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) {
      return this.#list.check(address.slice(7), 'ipv4');
    }
    return this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
