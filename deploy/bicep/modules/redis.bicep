// Azure Managed Redis (Microsoft.Cache/redisEnterprise): deliveries, idempotency keys, saga state.
// Access keys are disabled; each role that needs Redis gets an Entra access policy assignment.
param location string
param name string
param tags object
@description('Azure Managed Redis SKU, e.g. Balanced_B0 (dev) or Balanced_B5 (prod).')
param sku string
param highAvailability bool
@description('Append-only-file persistence: deliveries live only in Redis, so prod keeps it on.')
param persistence bool
@description('Roles that use Redis: [{ name, principalId }].')
param users array
param privateEndpointSubnetId string
param vnetId string

var aofPersistence = {
  aofEnabled: true
  aofFrequency: '1s'
}
var noPersistence = {
  aofEnabled: false
  rdbEnabled: false
}

resource cluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: highAvailability ? 'Enabled' : 'Disabled'
    publicNetworkAccess: 'Disabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cluster
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    // One endpoint for plain (non-cluster-aware) redis-py clients.
    clusteringPolicy: 'EnterpriseCluster'
    // Redis is a system of record here, not a cache: never evict.
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: 'Disabled'
    persistence: persistence ? aofPersistence : noPersistence
  }
}

@batchSize(1)
resource accessPolicyAssignment 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = [
  for user in users: {
    parent: database
    name: user.name
    properties: {
      accessPolicyName: 'default'
      user: {
        objectId: user.principalId
      }
    }
  }
]

module endpoint 'private-endpoint.bicep' = {
  name: 'pe-${name}'
  params: {
    location: location
    tags: tags
    name: name
    serviceResourceId: cluster.id
    groupId: 'redisEnterprise'
    privateDnsZoneName: 'privatelink.redis.azure.net'
    subnetId: privateEndpointSubnetId
    vnetId: vnetId
  }
}

output hostName string = cluster.properties.hostName
output port int = database.properties.port
