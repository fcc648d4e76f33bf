// The AKS cluster: Azure CNI powered by Cilium (overlay), Entra ID + Azure RBAC, OIDC issuer and
// Workload Identity, the application routing and KEDA add-ons, system and user node pools with the
// cluster autoscaler, and Container Insights sending to Log Analytics. Local accounts are off, so
// only the principals granted the cluster roles below can reach the Kubernetes API.
param location string
param name string
param tags object
param kubernetesVersion string
@allowed([
  'Free'
  'Standard'
])
param skuTier string
param subnetId string
param logAnalyticsWorkspaceId string
@description('CIDRs allowed to reach the API server (CI runners, operators). Empty means any address.')
param apiServerAuthorizedIpRanges array
@description('Availability zones for the node pools; empty for none.')
param availabilityZones array
param systemPool object
param userPool object
param podCidr string = '10.244.0.0/16'
param serviceCidr string = '10.0.0.0/16'
param dnsServiceIp string = '10.0.0.10'
@description('Object id of the principal that runs `helm upgrade` (the CI/CD service principal, or whoever deploys by hand).')
param clusterAdminPrincipalId string
@description('Object id of an Entra group of operators given the same cluster access; empty for none.')
param clusterAdminGroupObjectId string = ''

var networkContributorRoleId = '4d97b98b-1d4f-4787-a291-c67834d212e7'
// Cluster access with Azure RBAC: Cluster User lets `az aks get-credentials` fetch the (Entra-only)
// kubeconfig; RBAC Cluster Admin lets helm create what the chart holds, cluster-wide objects and
// ResourceQuota included, which the namespace-scoped Admin and Writer roles may not.
var aksClusterUserRoleId = '4abbcc35-e782-43d8-92c5-2d3abe75df38'
var aksRbacClusterAdminRoleId = 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'
var clusterAccessRoleIds = [
  aksClusterUserRoleId
  aksRbacClusterAdminRoleId
]

resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}-control-plane'
  location: location
  tags: tags
}

// The control plane identity manages the node subnet (load balancers, NICs), so it needs
// Network Contributor there before the cluster is created.
resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: split(subnetId, '/')[8]
}

resource nodeSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' existing = {
  parent: vnet
  name: last(split(subnetId, '/'))
}

resource subnetNetworkContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subnetId, controlPlaneIdentity.id, networkContributorRoleId)
  scope: nodeSubnet
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributorRoleId)
    principalId: controlPlaneIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource cluster 'Microsoft.ContainerService/managedClusters@2025-05-01' = {
  // checkov:skip=CKV_AZURE_6: authorized IP ranges are a parameter (apiServerAuthorizedIpRanges); GitHub-hosted runners have no fixed egress, so dev may leave it open and rely on Entra ID + Azure RBAC with local accounts disabled
  // checkov:skip=CKV_AZURE_8: the Kubernetes dashboard add-on no longer exists on supported AKS versions, so there is nothing to disable
  // checkov:skip=CKV_AZURE_172: enableSecretRotation is set below as the string 'true' because add-on config is a string map in the AKS API; the check only accepts a boolean
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: skuTier
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${controlPlaneIdentity.id}': {}
    }
  }
  properties: {
    kubernetesVersion: kubernetesVersion
    dnsPrefix: name
    nodeResourceGroup: 'MC_${resourceGroup().name}_${name}'
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      tenantID: tenant().tenantId
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
      imageCleaner: {
        enabled: true
        intervalHours: 168
      }
    }
    apiServerAccessProfile: {
      authorizedIPRanges: apiServerAuthorizedIpRanges
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      networkDataplane: 'cilium'
      networkPolicy: 'cilium'
      podCidr: podCidr
      serviceCidr: serviceCidr
      dnsServiceIP: dnsServiceIp
      loadBalancerSku: 'standard'
      outboundType: 'loadBalancer'
    }
    ingressProfile: {
      webAppRouting: {
        enabled: true
      }
    }
    autoUpgradeProfile: {
      upgradeChannel: 'patch'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    autoScalerProfile: {
      expander: 'least-waste'
      'balance-similar-node-groups': 'true'
    }
    // KEDA add-on: the chart's ScaledObject scales the workflow on its Service Bus queue's length.
    workloadAutoScalerProfile: {
      keda: {
        enabled: true
      }
    }
    addonProfiles: {
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: logAnalyticsWorkspaceId
          useAADAuth: 'true'
        }
      }
      // Secrets Store CSI driver: pods mount the Key Vault secrets with their own workload identity.
      azureKeyvaultSecretsProvider: {
        enabled: true
        config: {
          enableSecretRotation: 'true'
          rotationPollInterval: '2m'
        }
      }
      azurepolicy: {
        enabled: true
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        type: 'VirtualMachineScaleSets'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        vmSize: systemPool.vmSize
        osDiskType: 'Ephemeral'
        osDiskSizeGB: systemPool.osDiskSizeGB
        enableEncryptionAtHost: true
        maxPods: 110
        enableAutoScaling: true
        count: systemPool.minCount
        minCount: systemPool.minCount
        maxCount: systemPool.maxCount
        vnetSubnetID: subnetId
        availabilityZones: empty(availabilityZones) ? null : availabilityZones
        upgradeSettings: {
          maxSurge: '33%'
        }
        // Keep application pods off the system pool.
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
      }
      {
        name: 'user'
        mode: 'User'
        type: 'VirtualMachineScaleSets'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        vmSize: userPool.vmSize
        osDiskType: 'Ephemeral'
        osDiskSizeGB: userPool.osDiskSizeGB
        enableEncryptionAtHost: true
        maxPods: 110
        enableAutoScaling: true
        count: userPool.minCount
        minCount: userPool.minCount
        maxCount: userPool.maxCount
        vnetSubnetID: subnetId
        availabilityZones: empty(availabilityZones) ? null : availabilityZones
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
    ]
  }
  dependsOn: [
    subnetNetworkContributor
  ]
}

// No principalType: the principal is a service principal in CI and a user when deployed by hand.
resource pipelineClusterAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in clusterAccessRoleIds: {
    name: guid(cluster.id, clusterAdminPrincipalId, roleId)
    scope: cluster
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: clusterAdminPrincipalId
    }
  }
]

resource adminGroupClusterAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in clusterAccessRoleIds: if (!empty(clusterAdminGroupObjectId)) {
    name: guid(cluster.id, clusterAdminGroupObjectId, roleId)
    scope: cluster
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: clusterAdminGroupObjectId
      principalType: 'Group'
    }
  }
]

// Container Insights with managed-identity auth (useAADAuth) collects through this data collection rule.
resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: 'MSCI-${location}-${name}'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataSources: {
      extensions: [
        {
          name: 'ContainerInsightsExtension'
          extensionName: 'ContainerInsights'
          streams: [
            'Microsoft-ContainerInsights-Group-Default'
          ]
          extensionSettings: {
            dataCollectionSettings: {
              interval: '1m'
              namespaceFilteringMode: 'Off'
              enableContainerLogV2: true
            }
          }
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'ciworkspace'
          workspaceResourceId: logAnalyticsWorkspaceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-ContainerInsights-Group-Default'
        ]
        destinations: [
          'ciworkspace'
        ]
      }
    ]
  }
}

resource containerInsightsAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2023-03-11' = {
  name: 'ContainerInsightsExtension'
  scope: cluster
  properties: {
    dataCollectionRuleId: containerInsightsRule.id
  }
}

output name string = cluster.name
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL
output kubeletPrincipalId string = cluster.properties.identityProfile.kubeletidentity.objectId
