/**
 * The custom pricing file (YAML, later mounted from a ConfigMap). One zod schema is the source of its
 * TypeScript type and of its validation, so an error names the field that is wrong.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const DECIMAL = /^\d{1,12}(\.\d{1,9})?$/;
const decimal = (what: string) =>
  z
    .string({ error: `${what} must be a quoted decimal string such as "21.957642" (YAML numbers are binary floats)` })
    .regex(DECIMAL, `${what} must be a decimal string such as "21.957642"`);
const percent = decimal('percent').refine((p) => Number(p) <= 100, 'percent must be between 0 and 100');

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code of three capital letters, e.g. USD')
  .refine((c) => KNOWN_CURRENCIES.has(c), { message: 'unknown ISO 4217 currency code' });

const match = {
  provider: z.enum(['aws', 'gcp', 'azure']).optional(),
  instanceFamily: z.string().min(1).max(63).optional(),
  instanceType: z.string().min(1).max(63).optional(),
  region: z.string().min(1).max(63).optional(),
};

const capacityPricing = z.strictObject({
  /** Discount off the on-demand price; the most specific matching entry wins. */
  discounts: z
    .array(z.strictObject({ ...match, percent }))
    .max(500)
    .default([]),
  /** Explicit prices per instance type (and optionally region); these beat any discount. */
  prices: z
    .array(
      z.strictObject({
        instanceType: z.string().min(1).max(63),
        region: match.region,
        pricePerHour: decimal('pricePerHour'),
      }),
    )
    .max(5000)
    .default([]),
});

export const customPricingSchema = z.strictObject({
  currency: currencySchema.default('USD'),
  /** Units of `currency` per US dollar; needed to use the built-in (USD) catalog in another currency. */
  exchangeRateFromUSD: decimal('exchangeRateFromUSD').optional(),
  /** Explicit hourly price per node name; beats everything else. */
  nodes: z.record(z.string().min(1).max(253), decimal('node price')).default({}),
  instanceTypes: z
    .array(
      z.strictObject({
        instanceType: z.string().min(1).max(63),
        region: match.region,
        pricePerHour: decimal('pricePerHour'),
      }),
    )
    .max(5000)
    .default([]),
  /** Hourly price of one GPU by GPU feature discovery product name (nvidia.com/gpu.product). */
  gpuModels: z.record(z.string().min(1).max(128), decimal('GPU model price')).default({}),
  /** Rates for the CPU/memory part of a node, and for pricing CPU-only nodes with no other price. */
  resources: z
    .strictObject({
      pricePerVcpuHour: decimal('pricePerVcpuHour').default('0.0316'),
      pricePerGiBHour: decimal('pricePerGiBHour').default('0.0042'),
    })
    .default({ pricePerVcpuHour: '0.0316', pricePerGiBHour: '0.0042' }),
  spot: capacityPricing.default({ discounts: [], prices: [] }),
  reserved: capacityPricing.default({ discounts: [], prices: [] }),
  /** Price per GiB-month (730 hours) of a persistent volume, by StorageClass name; beats the storage catalog. */
  storageClasses: z.record(z.string().min(1).max(253), decimal('StorageClass price')).default({}),
  /** Price per GiB-month of a class neither `storageClasses` nor the catalog prices (flagged as an estimate). */
  defaultStoragePricePerGiBMonth: decimal('defaultStoragePricePerGiBMonth')
    .refine((p) => Number(p) > 0, 'defaultStoragePricePerGiBMonth must be above zero: an unknown class is never free')
    .optional(),
});

export type CustomPricing = z.output<typeof customPricingSchema>;
export type CapacityPricing = CustomPricing['spot'];

export class PricingFileError extends Error {
  override readonly name = 'PricingFileError';
}

/** Parses custom pricing from YAML text; throws PricingFileError naming each wrong field. */
export function parseCustomPricing(text: string, origin = 'pricing file'): CustomPricing {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (cause) {
    throw new PricingFileError(`${origin}: not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const result = customPricingSchema.safeParse(raw);
  if (!result.success) {
    throw new PricingFileError(`${origin} is invalid:\n${z.prettifyError(result.error)}`, { cause: result.error });
  }
  return result.data;
}

export async function loadCustomPricing(path: string): Promise<CustomPricing> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new PricingFileError(`cannot read pricing file ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseCustomPricing(text, path);
}

export const DEFAULT_CUSTOM_PRICING: CustomPricing = customPricingSchema.parse({});
