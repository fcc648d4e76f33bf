// Azure Container Registry: one image for every role. Pulled by the AKS kubelet identity only.
param location string
param name string
param tags object
@allowed([
  'Standard'
  'Premium'
])
param sku string
param zoneRedundant bool
@description('Principal id of the AKS kubelet identity, granted AcrPull.')
param kubeletPrincipalId string = ''

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  // checkov:skip=CKV_AZURE_139: images are pushed by GitHub-hosted runners (az acr build), which have no private network path; pulls need Entra auth (admin user and anonymous pull are off)
  // checkov:skip=CKV_AZURE_166: quarantine would block every pull until an external scanner marks the image verified; images are scanned by Defender for Containers instead
  // checkov:skip=CKV_AZURE_163: vulnerability scanning is Microsoft Defender for Containers, enabled per subscription, not a registry property
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
    zoneRedundancy: (sku == 'Premium' && zoneRedundant) ? 'Enabled' : 'Disabled'
    policies: {
      retentionPolicy: {
        days: 30
        status: sku == 'Premium' ? 'enabled' : 'disabled'
      }
    }
  }
}

resource kubeletAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(kubeletPrincipalId)) {
  name: guid(registry.id, kubeletPrincipalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: kubeletPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output id string = registry.id
output name string = registry.name
output loginServer string = registry.properties.loginServer
