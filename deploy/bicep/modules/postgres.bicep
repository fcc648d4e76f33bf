// Azure Database for PostgreSQL flexible server for the drone scheduler (and Django admin/auth).
// Entra authentication only; no password exists. Private endpoint only.
param location string
param name string
param tags object
param skuName string
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string
param storageSizeGb int
param backupRetentionDays int
param geoRedundantBackup bool
param zoneRedundant bool
param databaseName string = 'fabrikam'
@description('Roles that connect to PostgreSQL: [{ name, principalId }]; each becomes an Entra administrator whose login is the identity name.')
param users array
param privateEndpointSubnetId string
param vnetId string

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: '16'
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGb
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoRedundantBackup ? 'Enabled' : 'Disabled'
    }
    highAvailability: {
      mode: zoneRedundant ? 'ZoneRedundant' : 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Disabled'
    }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// The server runs one operation at a time and refuses the rest ("ServerIsBusy"): its children
// are written one after another, database -> configuration -> administrators -> private endpoint.
resource logConnections 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'log_connections'
  properties: {
    value: 'on'
    source: 'user-override'
  }
  dependsOn: [
    database
  ]
}

@batchSize(1)
resource administrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = [
  for user in users: {
    parent: server
    name: user.principalId
    properties: {
      principalType: 'ServicePrincipal'
      principalName: user.name
      tenantId: tenant().tenantId
    }
    dependsOn: [
      logConnections
    ]
  }
]

module endpoint 'private-endpoint.bicep' = {
  name: 'pe-${name}'
  params: {
    location: location
    tags: tags
    name: name
    serviceResourceId: server.id
    groupId: 'postgresqlServer'
    privateDnsZoneName: 'privatelink.postgres.database.azure.com'
    subnetId: privateEndpointSubnetId
    vnetId: vnetId
  }
  dependsOn: [
    administrator
  ]
}

output name string = server.name
output hostName string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
