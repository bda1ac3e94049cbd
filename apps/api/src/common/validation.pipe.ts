import { ValidationError as ClassValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, ValidationError } from '#libs/errors/app-error';

/** Whitelist validation: unknown fields are rejected, every problem is named by its field path. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new ValidationError(flatten(errors)),
  });
}

/** class-validator's messages start with the property name; the field is already named beside the message. */
function readable(message: string, property: string): string {
  if (/^property \S+ should not exist$/.test(message)) return 'is not a known field';
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

function flatten(errors: ClassValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    // A missing required field gets one clear message, not one per rule it would have had to pass.
    const missing =
      error.value === undefined && Object.keys(constraints).length > 0 && !('whitelistValidation' in constraints);
    const own = missing
      ? [{ field, message: 'is required' }]
      : Object.values(constraints).map((message) => ({ field, message: readable(message, error.property) }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
