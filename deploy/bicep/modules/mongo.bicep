// Azure DocumentDB (Cosmos DB for MongoDB vCore) for the packages context, private endpoint only.
param location string
param name string
param tags object
@description('Compute tier, e.g. M10 (dev) or M30 (prod).')
param computeTier string
param storageSizeGb int
param highAvailability bool
param administratorUserName string
@secure()
param administratorPassword string
param privateEndpointSubnetId string
param vnetId string

resource cluster 'Microsoft.DocumentDB/mongoClusters@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    serverVersion: '7.0'
    administrator: {
      userName: administratorUserName
      password: administratorPassword
    }
    compute: {
      tier: computeTier
    }
    storage: {
      sizeGb: storageSizeGb
    }
    sharding: {
      shardCount: 1
    }
    highAvailability: {
      targetMode: highAvailability ? 'ZoneRedundantPreferred' : 'Disabled'
    }
    publicNetworkAccess: 'Disabled'
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: 'pe-${name}'
  params: {
    location: location
    tags: tags
    name: name
    serviceResourceId: cluster.id
    groupId: 'MongoCluster'
    privateDnsZoneName: 'privatelink.mongocluster.cosmos.azure.com'
    subnetId: privateEndpointSubnetId
    vnetId: vnetId
  }
}

output name string = cluster.name
output hostName string = '${cluster.name}.mongocluster.cosmos.azure.com'
