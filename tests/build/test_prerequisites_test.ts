import { assertEquals } from "../assert.ts";
import { missingPackages, TEST_TOOLS } from "../../tools/test_prerequisites.ts";

Deno.test("missingPackages() names each Debian package of a missing tool once", () => {
  assertEquals(missingPackages(() => true), []);
  const missing = new Set(["gobgpd", "etcd", "etcdctl", "/usr/lib/frr/bgpd"]);
  assertEquals(missingPackages((tool) => !missing.has(tool)), [
    "gobgpd",
    "frr",
    "etcd-server",
    "etcd-client",
  ]);
  assertEquals(missingPackages(() => false).length, new Set(TEST_TOOLS.map((t) => t.pkg)).size);
});
