/** The variables that locate the API server: KUBECONFIG, and the in-cluster service host and port. */
export function kubeEnvironment(): NodeJS.ProcessEnv {
  const { KUBECONFIG, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT } = process.env;
  return { KUBECONFIG, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT };
}
