import { getMetadataStorage } from 'class-validator';

/**
 * The one use of class-validator internals, with a contract spec beside this file that fails
 * loudly when a class-validator upgrade changes what it relies on.
 *
 * class-validator finds the object that runs a constraint through `ConstraintMetadata.instance`,
 * a getter (`metadata/ConstraintMetadata.js`) that looks the constraint class up in its container:
 * a list searched from the start (`Array.find`) for every rule of every validated object. Classes
 * enter that list the first time one of their rules runs. Validating the `MQTT_*` keys at startup
 * put the module's constraint classes (one per decorator name) ahead of every payload DTO's, so
 * each rule of each payload passed them: ~1,100 more instructions per message of a 5-rule DTO
 * (docs/benchmarks.md). Given an instance of their own, they never enter the container.
 */

/**
 * Gives the constraint metadata of `cls` (registered by `@ValidatorConstraint`) one instance of
 * its own, which class-validator then uses instead of its container. Only for constraints without
 * dependencies: a container set with `useContainer` never builds them. Returns false, changing
 * nothing, when class-validator keeps no such metadata or `instance` is not a getter any more;
 * validation then works as before, through the container, and only the saving is lost.
 */
export function ownConstraintInstance(cls: new () => object): boolean {
  const metadatas = getMetadataStorage().getTargetValidatorConstraints(cls);
  if (metadatas.length === 0 || !hasInstanceGetter(metadatas[0])) return false;
  const instance = new cls();
  for (const metadata of metadatas) {
    Object.defineProperty(metadata, 'instance', {
      value: instance,
      writable: true,
      configurable: true,
    });
  }
  return true;
}

/** Whether `instance` is the prototype getter this file replaces (class-validator 0.14-0.15). */
export function hasInstanceGetter(metadata: object): boolean {
  const proto: unknown = Object.getPrototypeOf(metadata);
  if (typeof proto !== 'object' || proto === null) return false;
  return typeof Object.getOwnPropertyDescriptor(proto, 'instance')?.get === 'function';
}
