/**
 * Default spot discounts off the on-demand price, per cloud and instance family, used only when the pricing
 * file configures no spot price or discount for a spot node. Without them a spot node would be priced at
 * on-demand and spot savings would read zero. Spot prices move (AWS hourly, GCP up to daily, Azure with
 * capacity), so every price made from these is flagged as an estimate; the pricing file, and prices refreshed
 * from the clouds (src/pricing/market-*.ts), win over them.
 *
 * Each entry names its public source and the date it was read. Where a source gives a range, the low end is
 * taken: an estimate that understates the saving is the safer error for a budget. The table in
 * docs/pricing.md is checked against this one by spot-discounts.test.ts.
 */
import type { CloudProvider } from './capacity-type.ts';

export interface DefaultSpotDiscount {
  readonly provider: CloudProvider;
  /** Instance family as instanceFamilyOf gives it ("g5", "a2", "NC"); undefined for the cloud's default. */
  readonly instanceFamily?: string;
  /** Decimal string, percent off on-demand. */
  readonly percent: string;
  readonly source: string;
  /** Date the source was read, YYYY-MM-DD. */
  readonly read: string;
}

/** The newest `read` date below: reported with prices made from the table. */
export const SPOT_DISCOUNTS_DATE = '2026-12-02';

const GCP_SPOT_PAGE = 'https://cloud.google.com/spot-vms/pricing';
const GCP_BILLING_CATALOG =
  'https://raw.githubusercontent.com/tgarg01/silybench-data/main/derived/csv/gpu_prices.csv (Cloud Billing catalog, a3-highgpu-1g us-central1: spot 6.571 vs 10.9791 $/h, checked 2026-09-26)';
const AWS_SAVINGS =
  'https://dev.to/alonshrestha/aws-spot-instances-maximize-savings-minimize-interruptions-53o8 (AWS: "up to 90%"; "most users save around 50% to 70%")';
const SKYPILOT_AWS =
  "https://github.com/skypilot-org/skypilot-catalog/blob/master/catalogs/v7/aws/vms.csv (commit 001367d; us-east-1, the dearest zone's SpotPrice against Price: g5.2xlarge 0.6067/1.212, g5.24xlarge 3.8418/8.144, g6.16xlarge 1.3405/3.3968, g6.24xlarge 3.2464/6.6752)";
const AZURE_SPOT_PAGE = 'https://azure.microsoft.com/en-us/pricing/spot/ ("up to 90 percent")';
const AZURE_SAVINGS_RANGE = 'https://cal53.calculator.city/?p=139311 ("typically 60-90% savings")';

export const DEFAULT_SPOT_DISCOUNTS: readonly DefaultSpotDiscount[] = Object.freeze([
  // GCP publishes per-resource spot prices; its spot page quotes H100 -82 %, A100 -61 %, L4 -60 %. The billing
  // catalog read later shows a3 (H100) at about 40 % off, so the lower figure is used for a3.
  { provider: 'gcp', percent: '60', source: GCP_SPOT_PAGE, read: '2026-07-20' },
  { provider: 'gcp', instanceFamily: 'a2', percent: '61', source: GCP_SPOT_PAGE, read: '2026-07-20' },
  { provider: 'gcp', instanceFamily: 'g2', percent: '60', source: GCP_SPOT_PAGE, read: '2026-07-20' },
  { provider: 'gcp', instanceFamily: 'a3', percent: '40', source: GCP_BILLING_CATALOG, read: '2026-12-02' },
  // AWS says "up to 90 %" and publishes no per-family figure outside the Spot Instance Advisor's bands; the low
  // end of what users report is the default for the other families until a refresh replaces it.
  { provider: 'aws', percent: '50', source: AWS_SAVINGS, read: '2026-12-02' },
  // Per family, from a public catalog that records EC2's spot prices per zone: the smallest saving of the sizes
  // read, rounded down (g5: 49.9 % and 52.8 %; g6: 60.5 % and 51.4 %).
  { provider: 'aws', instanceFamily: 'g5', percent: '49', source: SKYPILOT_AWS, read: '2026-12-02' },
  { provider: 'aws', instanceFamily: 'g6', percent: '51', source: SKYPILOT_AWS, read: '2026-12-02' },
  // Azure says "up to 90 %", varying by region, size and capacity.
  { provider: 'azure', percent: '60', source: `${AZURE_SPOT_PAGE}; ${AZURE_SAVINGS_RANGE}`, read: '2026-12-02' },
]);

/** The family entry of the node's cloud, else the cloud's default; undefined when the cloud is unknown. */
export function defaultSpotDiscount(
  table: readonly DefaultSpotDiscount[],
  provider: CloudProvider | undefined,
  family: string | undefined,
): DefaultSpotDiscount | undefined {
  if (provider === undefined) return undefined;
  const ofProvider = table.filter((d) => d.provider === provider);
  return (
    ofProvider.find((d) => d.instanceFamily !== undefined && d.instanceFamily === family) ??
    ofProvider.find((d) => d.instanceFamily === undefined)
  );
}
