/**
 * npm run s3:up: a SeaweedFS S3 server for trying the ledger's S3 sink by hand, the same one the s3 tests start.
 * Prints the variables an AWS client reads, then runs in the foreground until Ctrl-C (or SIGTERM), which stops
 * it and deletes its data:
 *
 *   AWS_ENDPOINT_URL_S3=http://127.0.0.1:41234
 *   AWS_ACCESS_KEY_ID=...
 *   AWS_SECRET_ACCESS_KEY=...
 *   AWS_REGION=us-east-1
 *   AICOST_LEDGER=s3://aicost-ledger/ledger
 */
import { startWeed } from '../support/weed-server.ts';

const weed = await startWeed();
console.log(
  [
    `AWS_ENDPOINT_URL_S3=${weed.endpoint}`,
    `AWS_ACCESS_KEY_ID=${weed.accessKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${weed.secretAccessKey}`,
    `AWS_REGION=${weed.region}`,
    `AICOST_LEDGER=s3://${weed.bucket}/ledger`,
  ].join('\n'),
);
console.error(`s3:up: weed's log is ${weed.logFile}; Ctrl-C stops it and deletes its data`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  weed.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
