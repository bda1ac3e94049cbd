import { registerDecorator, ValidationOptions } from 'class-validator';

/**
 * At most `max` Unicode code points — how MySQL counts VARCHAR(n) in utf8mb4. (`@MaxLength` counts differently
 * for some sequences, which would let a value through that the column then refuses.)
 */
export function MaxCodePoints(max: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'maxCodePoints',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [max],
      options: { message: `must be at most ${max} characters`, ...options },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && [...value].length <= max,
      },
    });
}
