/**
 * The one place that reads class-transformer's metadata storage, which its package does not
 * export from its entry point: the element class of `@Type(() => Item) items!: Item[]`.
 * `asyncapi.schema.spec.ts` fails loudly if an upgrade moves or renames it.
 */
interface TypeMetadataStorage {
  findTypeMetadata(
    target: object,
    propertyName: string,
  ): { typeFunction(options?: object): unknown } | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const storage = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage?: TypeMetadataStorage;
};

/** The class given to class-transformer's `@Type(() => Class)` on a property, if any. */
export function transformerTypeOf(target: object, propertyName: string): unknown {
  const store = storage.defaultMetadataStorage;
  if (typeof store?.findTypeMetadata !== 'function') {
    throw new Error(
      'class-transformer no longer exposes defaultMetadataStorage.findTypeMetadata in ' +
        '"class-transformer/cjs/storage": nestjs-mqtt cannot read @Type() for the AsyncAPI ' +
        'schemas; pin class-transformer to 0.5.x or report it to nestjs-mqtt',
    );
  }
  return store.findTypeMetadata(target, propertyName)?.typeFunction();
}
