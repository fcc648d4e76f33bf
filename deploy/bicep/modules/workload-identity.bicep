// The managed identity of one role, federated with the Helm chart's ServiceAccount
// `system:serviceaccount:<namespace>:<release>-<role>` on the cluster's OIDC issuer (Workload Identity),
// or with another ServiceAccount given as `subject` (the KEDA add-on's operator).
param location string
param namePrefix string
param tags object
param role string
param oidcIssuerUrl string
param kubernetesNamespace string
param helmReleaseName string
param subject string = 'system:serviceaccount:${kubernetesNamespace}:${helmReleaseName}-${role}'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${namePrefix}-${role}'
  location: location
  tags: union(tags, {
    'fabrikam-role': role
  })
}

resource federatedCredential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'aks-${kubernetesNamespace}-${helmReleaseName}-${role}'
  properties: {
    issuer: oidcIssuerUrl
    subject: subject
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

output role string = role
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
