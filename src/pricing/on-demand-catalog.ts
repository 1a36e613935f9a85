/**
 * Built-in on-demand prices (Linux, per hour) of common GPU instance types. This is data, not logic:
 * the provider looks entries up by instance type. Each entry names its source and the date that source
 * was generated, so a reader can check and refresh it. vCPU and memory figures are the clouds' published
 * instance sizes; they only serve to split a node's price into its GPU part and its CPU/memory part.
 *
 * Sources:
 * - aws:   aws/karpenter-provider-aws, pkg/providers/pricing/zz_generated.pricing_aws.go (us-east-1), generated 2026-07-20
 * - azure: Azure/karpenter-provider-azure, pkg/providers/pricing/zz_generated.pricing.go (eastus), generated 2026-06-18
 * - gcp:   kubernetes/autoscaler, cluster-autoscaler/cloudprovider/gce/gce_price_info.go (us-central1), read 2026-07-20
 */
import type { CloudProvider } from './capacity-type.ts';

export interface CatalogEntry {
  readonly provider: CloudProvider;
  readonly instanceType: string;
  /** Region the price was read for; other regions are priced from it as an estimate. */
  readonly region: string;
  /** Decimal string, in USD. */
  readonly pricePerHour: string;
  readonly gpuModel: string;
  readonly gpuCount: number;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly source: string;
}

export const CATALOG_CURRENCY = 'USD';
export const CATALOG_DATE = '2026-07-20';

const AWS = 'aws karpenter-provider-aws zz_generated.pricing_aws.go (2026-07-20)';
const GCP = 'kubernetes/autoscaler gce_price_info.go (2026-07-20)';
const AZURE = 'azure karpenter-provider-azure zz_generated.pricing.go (2026-06-18)';

type Row = [
  instanceType: string,
  pricePerHour: string,
  gpuModel: string,
  gpuCount: number,
  vcpu: number,
  memoryGiB: number,
];

const aws: Row[] = [
  ['p5.48xlarge', '55.04', 'NVIDIA-H100-80GB-HBM3', 8, 192, 2048],
  ['p5.4xlarge', '6.88', 'NVIDIA-H100-80GB-HBM3', 1, 16, 256],
  ['p5en.48xlarge', '63.296', 'NVIDIA-H200', 8, 192, 2048],
  ['p4d.24xlarge', '21.957642', 'NVIDIA-A100-SXM4-40GB', 8, 96, 1152],
  ['p4de.24xlarge', '27.44705', 'NVIDIA-A100-SXM4-80GB', 8, 96, 1152],
  ['g5.xlarge', '1.006', 'NVIDIA-A10G', 1, 4, 16],
  ['g5.2xlarge', '1.212', 'NVIDIA-A10G', 1, 8, 32],
  ['g5.4xlarge', '1.624', 'NVIDIA-A10G', 1, 16, 64],
  ['g5.8xlarge', '2.448', 'NVIDIA-A10G', 1, 32, 128],
  ['g5.12xlarge', '5.672', 'NVIDIA-A10G', 4, 48, 192],
  ['g5.16xlarge', '4.096', 'NVIDIA-A10G', 1, 64, 256],
  ['g5.24xlarge', '8.144', 'NVIDIA-A10G', 4, 96, 384],
  ['g5.48xlarge', '16.288', 'NVIDIA-A10G', 8, 192, 768],
  ['g6.xlarge', '0.8048', 'NVIDIA-L4', 1, 4, 16],
  ['g6.2xlarge', '0.9776', 'NVIDIA-L4', 1, 8, 32],
  ['g6.4xlarge', '1.3232', 'NVIDIA-L4', 1, 16, 64],
  ['g6.8xlarge', '2.0144', 'NVIDIA-L4', 1, 32, 128],
  ['g6.12xlarge', '4.6016', 'NVIDIA-L4', 4, 48, 192],
  ['g6.16xlarge', '3.3968', 'NVIDIA-L4', 1, 64, 256],
  ['g6.24xlarge', '6.6752', 'NVIDIA-L4', 4, 96, 384],
  ['g6.48xlarge', '13.3504', 'NVIDIA-L4', 8, 192, 768],
  ['g6e.xlarge', '1.861', 'NVIDIA-L40S', 1, 4, 32],
  ['g6e.2xlarge', '2.24208', 'NVIDIA-L40S', 1, 8, 64],
  ['g6e.4xlarge', '3.00424', 'NVIDIA-L40S', 1, 16, 128],
  ['g6e.8xlarge', '4.52856', 'NVIDIA-L40S', 1, 32, 256],
  ['g6e.12xlarge', '10.49264', 'NVIDIA-L40S', 4, 48, 384],
  ['g6e.16xlarge', '7.57719', 'NVIDIA-L40S', 1, 64, 512],
  ['g6e.24xlarge', '15.06559', 'NVIDIA-L40S', 4, 96, 768],
  ['g6e.48xlarge', '30.13118', 'NVIDIA-L40S', 8, 192, 1536],
  ['g4dn.xlarge', '0.526', 'Tesla-T4', 1, 4, 16],
  ['g4dn.2xlarge', '0.752', 'Tesla-T4', 1, 8, 32],
  ['g4dn.4xlarge', '1.204', 'Tesla-T4', 1, 16, 64],
  ['g4dn.8xlarge', '2.176', 'Tesla-T4', 1, 32, 128],
  ['g4dn.12xlarge', '3.912', 'Tesla-T4', 4, 48, 192],
  ['g4dn.16xlarge', '4.352', 'Tesla-T4', 1, 64, 256],
];

const gcp: Row[] = [
  ['a2-highgpu-1g', '3.673385', 'NVIDIA-A100-SXM4-40GB', 1, 12, 85],
  ['a2-highgpu-8g', '29.38708', 'NVIDIA-A100-SXM4-40GB', 8, 96, 680],
  ['a2-ultragpu-1g', '5.0688', 'NVIDIA-A100-SXM4-80GB', 1, 12, 170],
  ['a2-ultragpu-8g', '40.5504', 'NVIDIA-A100-SXM4-80GB', 8, 96, 1360],
  ['g2-standard-4', '0.76', 'NVIDIA-L4', 1, 4, 16],
];

const azure: Row[] = [
  ['Standard_ND96isr_H100_v5', '98.32', 'NVIDIA-H100-80GB-HBM3', 8, 96, 1900],
  ['Standard_ND96asr_v4', '27.197', 'NVIDIA-A100-SXM4-40GB', 8, 96, 900],
  ['Standard_ND96amsr_A100_v4', '32.77', 'NVIDIA-A100-SXM4-80GB', 8, 96, 1900],
  ['Standard_NC24ads_A100_v4', '3.673', 'NVIDIA-A100-PCIE-80GB', 1, 24, 220],
  ['Standard_NC48ads_A100_v4', '7.346', 'NVIDIA-A100-PCIE-80GB', 2, 48, 440],
  ['Standard_NC96ads_A100_v4', '14.692', 'NVIDIA-A100-PCIE-80GB', 4, 96, 880],
  ['Standard_NC4as_T4_v3', '0.526', 'Tesla-T4', 1, 4, 28],
  ['Standard_NC8as_T4_v3', '0.752', 'Tesla-T4', 1, 8, 56],
  ['Standard_NC16as_T4_v3', '1.204', 'Tesla-T4', 1, 16, 110],
  ['Standard_NC64as_T4_v3', '4.352', 'Tesla-T4', 4, 64, 440],
];

function entries(provider: CloudProvider, region: string, source: string, rows: Row[]): CatalogEntry[] {
  return rows.map(([instanceType, pricePerHour, gpuModel, gpuCount, vcpu, memoryGiB]) => ({
    provider,
    instanceType,
    region,
    pricePerHour,
    gpuModel,
    gpuCount,
    vcpu,
    memoryGiB,
    source,
  }));
}

export const ON_DEMAND_CATALOG: readonly CatalogEntry[] = Object.freeze([
  ...entries('aws', 'us-east-1', AWS, aws),
  ...entries('gcp', 'us-central1', GCP, gcp),
  ...entries('azure', 'eastus', AZURE, azure),
]);
