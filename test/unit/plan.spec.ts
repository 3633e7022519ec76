import { strict as assert } from "node:assert";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { DEFAULT_OWNER, plan, PlanError, planChangesStore } from "../../components/plan";
import { identityOf } from "../../components/platforms/observation";
import type { ObservedRoot, ObservedStore, RootOrigin } from "../../components/platforms";
import { TestPki } from "../support/pki";

describe("plan", function () {
  this.timeout(30_000);
  const pki = new TestPki();
  const make = (name: string): Certificate => parseCertificates(pki.root(name, `/CN=${name}`, { key: "ec256" }).pem)[0];
  let wanted: Certificate, managedOld: Certificate, localExtra: Certificate, systemRoot: Certificate, policyRoot: Certificate, bad: Certificate;

  before(() => {
    [wanted, managedOld, localExtra, systemRoot, policyRoot, bad] = ["wanted", "managed-old", "local-extra", "system", "policy", "bad"].map(make);
  });

  const observedRoot = (certificate: Certificate, origin: RootOrigin, trusted = true, locations: string[] = []): ObservedRoot => ({
    ...identityOf(certificate),
    origin,
    trusted,
    locations,
    ...(origin === "managed" ? { ownLocations: locations } : {}),
  });

  const store = (roots: ObservedRoot[], extra: Partial<ObservedStore> = {}): ObservedStore => ({
    platform: "debian",
    store: "Root",
    bootId: "b",
    pendingReboot: false,
    roots,
    distrusted: [],
    manifest: {
      version: 3,
      roots: roots.filter((root) => root.origin === "managed").map(({ sha1, sha256, subject }) => ({ sha1, sha256, subject, store: "Root" as const, owners: [DEFAULT_OWNER] })),
      distrusted: [],
    },
    manifestDigest: "absent",
    warnings: [],
    distrustBy: "absence",
    ...extra,
  });

  const fleetStore = () =>
    store([
      observedRoot(managedOld, "managed", true, ["/a/trusted-roots-old.crt"]),
      observedRoot(localExtra, "local", true, ["/a/extra.crt"]),
      observedRoot(systemRoot, "system"),
      observedRoot(policyRoot, "policy", true, [".GroupPolicy"]),
    ]);

  it("imports what is missing and nothing else in additive mode", () => {
    const result = plan({ roots: [wanted] }, fleetStore(), "additive");
    assert.deepEqual(result.imports.map((root) => root.sha256), [wanted.sha256]);
    assert.equal(result.imports[0].der.equals(wanted.der), true);
    assert.deepEqual(result.removals, []);
    assert.deepEqual(result.foreign.map((root) => root.sha256).sort(), [localExtra.sha256, policyRoot.sha256].sort());
    assert.deepEqual(result.manifest.roots.map((root) => root.sha256).sort(), [managedOld.sha256, wanted.sha256].sort());
    assert.equal(planChangesStore(result), true);
  });

  it("exact mode also removes managed roots no longer declared, and only those", () => {
    const result = plan({ roots: [wanted] }, fleetStore(), "exact");
    assert.deepEqual(result.removals.map((removal) => [removal.sha256, removal.reason, removal.files]), [
      [managedOld.sha256, "no longer desired", ["/a/trusted-roots-old.crt"]],
    ]);
    assert.deepEqual(result.manifest.roots.map((root) => root.sha256), [wanted.sha256]);
  });

  it("purgeUnmanaged removes local anchors too, never system or Group Policy roots", () => {
    const result = plan({ roots: [wanted] }, fleetStore(), "purgeUnmanaged");
    assert.deepEqual(result.removals.map((removal) => removal.sha256).sort(), [managedOld.sha256, localExtra.sha256].sort());
    assert.deepEqual(result.foreign.map((root) => root.sha256), [policyRoot.sha256]);
  });

  it("keeps a local file that also holds a wanted root", () => {
    const shared = ["/a/bundle.crt"];
    const observed = store([observedRoot(wanted, "local", true, shared), observedRoot(localExtra, "local", true, shared)]);
    const result = plan({ roots: [wanted] }, observed, "purgeUnmanaged");
    assert.deepEqual(result.removals, []);
    assert.deepEqual(result.imports, []);
  });

  it("a declared root that is present but not trusted (stale bundle) is imported again", () => {
    const observed = store([observedRoot(wanted, "managed", false, ["/a/trusted-roots-w.crt"])]);
    assert.deepEqual(plan({ roots: [wanted] }, observed, "exact").imports.map((root) => root.sha256), [wanted.sha256]);
  });

  it("an already trusted root is unchanged, and an in-sync store plans no change", () => {
    const observed = store([observedRoot(wanted, "managed", true, ["/a/x.crt"]), observedRoot(systemRoot, "system")]);
    const result = plan({ roots: [wanted, systemRoot] }, observed, "exact");
    assert.deepEqual(result.unchanged.map((root) => root.sha256).sort(), [wanted.sha256, systemRoot.sha256].sort());
    assert.equal(planChangesStore(result), false);
  });

  it("declaring the same root twice imports it once", () => {
    assert.equal(plan({ roots: [wanted, wanted] }, store([]), "exact").imports.length, 1);
  });

  it("distrusts a root and removes our or local copies of it in any mode", () => {
    const observed = store([observedRoot(bad, "local", true, ["/a/bad.crt"])]);
    const result = plan({ roots: [], distrusted: [bad] }, observed, "additive");
    assert.deepEqual(result.distrusts.map((root) => root.sha256), [bad.sha256]);
    assert.deepEqual(result.removals.map((removal) => [removal.sha256, removal.reason]), [[bad.sha256, "distrusted"]]);
    assert.deepEqual(result.manifest.distrusted.map((root) => root.sha256), [bad.sha256]);
    const already = plan({ roots: [], distrusted: [bad] }, store([], { distrusted: [observedRoot(bad, "local", false)] }), "additive");
    assert.deepEqual(already.distrusts, []);
  });

  describe("trusting again: only this tool's distrusts, and only when no declaration holds them", () => {
    const entryOf = (certificate: Certificate, owners?: string[]) => ({ sha256: certificate.sha256, sha1: certificate.sha1, subject: certificate.subject, ...(owners ? { owners } : {}) });
    /** The host after this tool distrusted `bad` for the given holders (or, with undefined, before owners existed). */
    const distrustedBy = (owners: string[] | undefined, extra: Partial<ObservedStore> = {}) =>
      store([], { distrusted: [observedRoot(bad, "system", false)], manifest: { version: 2, roots: [], distrusted: [entryOf(bad, owners)] }, ...extra });

    it("a new distrust is recorded with its owner; the same root taken off the list is trusted again", () => {
      const first = plan({ roots: [], distrusted: [bad], owner: "web01" }, store([]), "exact");
      assert.deepEqual(first.manifest.distrusted, [entryOf(bad, ["web01"])]);
      const lifted = plan({ roots: [], distrusted: [], owner: "web01" }, distrustedBy(["web01"]), "exact");
      assert.deepEqual(lifted.undistrusts, [entryOf(bad)]);
      assert.deepEqual(lifted.manifest.distrusted, []);
      assert.equal(planChangesStore(lifted), true);
    });

    it("a root another declaration still distrusts stays distrusted; only this declaration's hold goes", () => {
      const released = plan({ roots: [], distrusted: [], owner: "web01" }, distrustedBy(["other-stack", "web01"]), "exact");
      assert.deepEqual(released.undistrusts, []);
      assert.deepEqual(released.manifest.distrusted, [entryOf(bad, ["other-stack"])]);
      assert.equal(planChangesStore(released), false);
      assert.equal(released.manifestChanged, true);
    });

    it("an administrator's distrust (not in the manifest) gets no entry and is never lifted", () => {
      const admin = store([], { distrusted: [observedRoot(bad, "system", false)] });
      const declared = plan({ roots: [], distrusted: [bad], owner: "web01" }, admin, "exact");
      assert.deepEqual([declared.distrusts, declared.manifest.distrusted], [[], []]);
      assert.deepEqual(plan({ roots: [], distrusted: [], owner: "web01" }, admin, "exact").undistrusts, []);
    });

    it("a delete leaves the distrust, without an owner; a later declaration adopts it and can lift it", () => {
      const deleted = plan({ roots: [], owner: "web01", keepDistrusts: true }, distrustedBy(["web01"]), "exact");
      assert.deepEqual([deleted.undistrusts, deleted.manifest.distrusted], [[], [entryOf(bad)]]);
      assert.deepEqual(plan({ roots: [], distrusted: [], owner: "web02" }, distrustedBy(undefined), "exact").undistrusts, [], "an owner-less entry nobody declares stays");
      const adopted = plan({ roots: [], distrusted: [bad], owner: "web02" }, distrustedBy(undefined), "exact");
      assert.deepEqual([adopted.distrusts, adopted.manifest.distrusted], [[], [entryOf(bad, ["web02"])]]);
      assert.deepEqual(plan({ roots: [], distrusted: [], owner: "web02" }, distrustedBy(["web02"]), "exact").undistrusts, [entryOf(bad)]);
    });

    it("a renamed declaration's distrust is its own: keeping it moves the hold, dropping it lifts it", () => {
      const renamed = plan({ roots: [], distrusted: [bad], owner: "web01b", previousOwners: ["web01"] }, distrustedBy(["web01"]), "exact");
      assert.deepEqual(renamed.manifest.distrusted, [entryOf(bad, ["web01b"])]);
      assert.deepEqual(plan({ roots: [], distrusted: [], owner: "web01b", previousOwners: ["web01"] }, distrustedBy(["web01"]), "exact").undistrusts, [entryOf(bad)]);
    });
  });

  for (const mode of ["additive", "exact", "purgeUnmanaged"] as const) {
    it(`${mode}: never removes an OS-shipped or Group Policy root, even one it is told to distrust`, () => {
      const observed = store([
        observedRoot(systemRoot, "system", true, []),
        observedRoot(policyRoot, "policy", true, [".GroupPolicy"]),
        observedRoot(localExtra, "local", true, ["/a/extra.crt"]),
      ]);
      const undeclared = plan({ roots: [wanted] }, observed, mode);
      assert.deepEqual(
        undeclared.removals.map((removal) => removal.sha256),
        mode === "purgeUnmanaged" ? [localExtra.sha256] : [],
        "only a local anchor, and only in purgeUnmanaged",
      );
      const distrusted = plan({ roots: [wanted], distrusted: [systemRoot, policyRoot] }, observed, mode);
      assert.deepEqual(
        distrusted.removals.filter((removal) => [systemRoot.sha256, policyRoot.sha256].includes(removal.sha256)),
        [],
        "a distrusted system or policy root is distrusted, not deleted",
      );
      assert.deepEqual(distrusted.distrusts.map((root) => root.sha256).sort(), [systemRoot.sha256, policyRoot.sha256].sort());
    });
  }

  describe("ownership: a root leaves the host only when no declaration holds it", () => {
    /** The host after declarations `owners` installed managedOld: a v3 entry of the Root store, or (undefined) one from before owners. */
    const held = (owners: string[] | undefined) =>
      store([observedRoot(managedOld, "managed", true, ["/a/trusted-roots-old.crt"])], {
        manifest: {
          version: owners ? 3 : 1,
          roots: [{ sha256: managedOld.sha256, sha1: managedOld.sha1, subject: managedOld.subject, ...(owners ? { owners, store: "Root" as const } : {}) }],
          distrusted: [],
        },
      });
    /** Every holder of managedOld, whichever entries record them. */
    const ownersAfter = (result: ReturnType<typeof plan>) => {
      const entries = result.manifest.roots.filter((entry) => entry.sha256 === managedOld.sha256);
      return entries.length === 0 || entries.every((entry) => entry.owners === undefined) ? undefined : [...new Set(entries.flatMap((entry) => entry.owners ?? []))].sort();
    };

    it("a root another declaration still holds is released, not removed", () => {
      const result = plan({ roots: [], owner: "p/s/web-h3-root" }, held(["p/s/web-03-root", "p/s/web-h3-root"]), "exact");
      assert.deepEqual(result.removals, []);
      assert.deepEqual(result.released.map((root) => root.sha256), [managedOld.sha256]);
      assert.deepEqual(ownersAfter(result), ["p/s/web-03-root"]);
      assert.deepEqual([planChangesStore(result), result.manifestChanged], [false, true]);
    });

    it("a rename: the new declaration claims the root without touching trust; the old one's delete then keeps it", () => {
      const claimed = plan({ roots: [managedOld], owner: "p/s/web-03-root" }, held(["p/s/web-h3-root"]), "exact");
      assert.deepEqual([claimed.imports, claimed.removals, planChangesStore(claimed), claimed.manifestChanged], [[], [], false, true]);
      assert.deepEqual(ownersAfter(claimed), ["p/s/web-03-root", "p/s/web-h3-root"]);
      const deleted = plan({ roots: [], owner: "p/s/web-h3-root" }, held(ownersAfter(claimed)), "exact");
      assert.deepEqual(deleted.removals, []);
      assert.deepEqual(ownersAfter(deleted), ["p/s/web-03-root"]);
    });

    it("the last holder's removal removes the root; other declarations' roots are never this one's to remove", () => {
      assert.deepEqual(plan({ roots: [], owner: "a" }, held(["a"]), "exact").removals.map((removal) => removal.sha256), [managedOld.sha256]);
      for (const mode of ["exact", "purgeUnmanaged"] as const) {
        const other = plan({ roots: [], owner: "a" }, held(["b"]), mode);
        assert.deepEqual([other.removals, other.released, ownersAfter(other)], [[], [], ["b"]], mode);
      }
    });

    it("an earlier id of the same declaration (an aliased rename) hands its holds over", () => {
      const result = plan({ roots: [managedOld], owner: "p/s/new", previousOwners: ["p/s/old"] }, held(["p/s/old"]), "exact");
      assert.deepEqual(ownersAfter(result), ["p/s/new"]);
      const dropped = plan({ roots: [], owner: "p/s/new", previousOwners: ["p/s/old"] }, held(["p/s/old"]), "exact");
      assert.deepEqual(dropped.removals.map((removal) => removal.sha256), [managedOld.sha256]);
    });

    it("a manifest from before owners: a declaration adopts what it declares; what it does not declare is never its to remove", () => {
      assert.deepEqual(ownersAfter(plan({ roots: [managedOld], owner: "a" }, held(undefined), "exact")), ["a"]);
      // Regression (issue 21): 0.1 recorded no owners, and the first exact declaration that did not declare such a
      // root removed it, though another stack had installed it and still declared it.
      for (const mode of ["additive", "exact", "purgeUnmanaged"] as const) {
        const other = plan({ roots: [], owner: "a" }, held(undefined), mode);
        assert.deepEqual([other.removals, other.released, ownersAfter(other), other.manifestChanged], [[], [], undefined, false], mode);
      }
    });

    it("additive mode keeps an undeclared root and its holder", () => {
      const result = plan({ roots: [], owner: "a" }, held(["a"]), "additive");
      assert.deepEqual([result.removals, result.released, ownersAfter(result), result.manifestChanged], [[], [], ["a"], false]);
    });

    it("an import records its owner; an unchanged plan changes nothing, manifest included", () => {
      const imported = plan({ roots: [wanted], owner: "a" }, store([]), "exact");
      assert.deepEqual(imported.manifest.roots.map((entry) => [entry.sha256, entry.owners]), [[wanted.sha256, ["a"]]]);
      const again = plan({ roots: [managedOld], owner: "a" }, held(["a"]), "exact");
      assert.deepEqual([planChangesStore(again), again.manifestChanged], [false, false]);
    });
  });

  it("refuses a root that is both desired and distrusted, naming it", () => {
    assert.throws(
      () => plan({ roots: [wanted], distrusted: [wanted] }, store([]), "exact"),
      (error: unknown) => error instanceof PlanError && /"CN=wanted" \(SHA-1 [0-9A-F]{40}\) is both desired and distrusted/.test(error.message),
    );
  });
});
