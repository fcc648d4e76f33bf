// Fabrikam Drone Delivery: all Azure resources for one environment.
// Split by workload as the AKS microservices reference architecture does: the cluster and its
// registry, the shared data services each bounded context owns, and one identity per role.
targetScope = 'subscription'

@allowed([
  'dev'
  'prod'
])
param environmentName string
param location string = deployment().location
param resourceGroupName string = 'rg-fabrikam-${environmentName}'
param tags object = {
  application: 'fabrikam-drone-delivery'
  environment: environmentName
}

@description('Namespace and Helm release the chart is installed with; the federated credentials trust `system:serviceaccount:<namespace>:<release>-<role>`.')
param kubernetesNamespace string = 'fabrikam'
param helmReleaseName string = 'fabrikam'

// Cluster
@description('Empty for the AKS default version.')
param kubernetesVersion string = ''
@allowed([
  'Free'
  'Standard'
])
param aksSkuTier string
@description('Availability zones for node pools; empty for none.')
param availabilityZones array = []
param apiServerAuthorizedIpRanges array = []
// Local accounts are disabled: nobody reaches the Kubernetes API without one of these.
@description('Object id of the principal that runs `helm upgrade` (the CI/CD service principal: `az ad sp show --id <client id> --query id`); it gets Azure Kubernetes Service Cluster User and RBAC Cluster Admin on the cluster. Empty: the principal running this deployment.')
param pipelinePrincipalId string = ''
@description('Object id of an Entra group of operators given the same cluster access; empty for none.')
param clusterAdminGroupObjectId string = ''
@description('{ vmSize, osDiskSizeGB, minCount, maxCount }; osDiskSizeGB must fit the VM size\'s cache/temp disk (ephemeral OS disk).')
param systemPool object
param userPool object
param vnetAddressPrefix string = '10.240.0.0/16'
param aksSubnetPrefix string = '10.240.0.0/22'
param privateEndpointSubnetPrefix string = '10.240.4.0/24'

// Shared services
@allowed([
  'Standard'
  'Premium'
])
param acrSku string
@description('Zone redundancy for the registry, PostgreSQL and MongoDB (needs a region with availability zones).')
param zoneRedundant bool
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string
@description('Queues other than deliveryrequests the app uses: the workflow\'s dead-letter queue (DELIVERY_REQUESTS_DEADLETTER_QUEUE) and the scheduler\'s flight ticks (FLIGHT_QUEUE).')
param serviceBusExtraQueueNames array = [
  'deliveryrequests-deadletter'
  'flights'
]
param redisSku string
param redisHighAvailability bool
param redisPersistence bool
param mongoComputeTier string
param mongoStorageSizeGb int
param mongoAdministratorUserName string = 'fabrikamadmin'
@secure()
param mongoAdministratorPassword string
param postgresSkuName string
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string
param postgresStorageSizeGb int
param postgresBackupRetentionDays int
param postgresGeoRedundantBackup bool
param logRetentionInDays int = 30
@description('Part of the Key Vault\'s name. A deleted vault stays soft-deleted, its name taken, for 90 days and purge protection forbids purging it: when re-creating an environment within that time, raise this to get a new name (or recover the old vault, see README.md).')
@minValue(1)
param keyVaultGeneration int = 1
@secure()
@description('Django SECRET_KEY, stored in Key Vault as django-secret-key.')
param djangoSecretKey string

// The API's Entra app registration (modules/api-app-registration.bicep)
@description('Name of the API\'s app registration, unique in the tenant; its Application ID URI is api://<tenant id>/<name>.')
param apiAppName string = 'fabrikam-api-${environmentName}'

// Every role of the one image (fabrikam/roles.py) plus the migrate Job.
var workloadRoles = [
  'ingestion'
  'delivery'
  'package'
  'dronescheduler'
  'admin'
  'workflow'
  'scheduler'
  'migrate'
]
// Data-plane access, least privilege. ingestion sends to the deliveryrequests queue only; the
// workflow receives it and sends (dead letters, replays, retries); the scheduler (a worker with
// beat embedded) sends its flight ticks to the flights queue and receives them.
var serviceBusQueueSenderRoles = [
  'ingestion'
]
var serviceBusSenderRoles = [
  'workflow'
  'scheduler'
]
var serviceBusReceiverRoles = [
  'workflow'
  'scheduler'
]
var redisRoles = [
  'ingestion'
  'delivery'
  'package'
  'dronescheduler'
  'admin'
  'workflow'
]
// Every HTTP role reads the API-client registry (who a token acts for) from PostgreSQL.
var postgresRoles = [
  'ingestion'
  'delivery'
  'package'
  'dronescheduler'
  'admin'
  'scheduler'
  'migrate'
]
// The roles that call other services (the chart's `calls`): their service tokens carry the API's
// `internal` app role.
var internalCallerRoles = [
  'workflow'
  'scheduler'
]

var keyVaultSecretNames = [
  'django-secret-key'
  'database-url'
  'redis-url'
  'mongodb-uri'
  'celery-broker-url'
  'applicationinsights-connection-string'
]
var applicationInsightsSecretName = 'applicationinsights-connection-string'

var namePrefix = 'fabrikam-${environmentName}'
var suffix = take(uniqueString(subscription().id, resourceGroupName), 6)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    location: location
    namePrefix: namePrefix
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module network 'modules/network.bicep' = {
  scope: rg
  name: 'network'
  params: {
    location: location
    namePrefix: namePrefix
    tags: tags
    addressPrefix: vnetAddressPrefix
    aksSubnetPrefix: aksSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
  }
}

module deploying 'modules/deployer.bicep' = {
  scope: rg
  name: 'deployer'
}

module aks 'modules/aks.bicep' = {
  scope: rg
  name: 'aks'
  params: {
    location: location
    name: 'aks-${namePrefix}'
    tags: tags
    kubernetesVersion: kubernetesVersion
    skuTier: aksSkuTier
    subnetId: network.outputs.aksSubnetId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    apiServerAuthorizedIpRanges: apiServerAuthorizedIpRanges
    availabilityZones: availabilityZones
    systemPool: systemPool
    userPool: userPool
    clusterAdminPrincipalId: empty(pipelinePrincipalId) ? deploying.outputs.objectId : pipelinePrincipalId
    clusterAdminGroupObjectId: clusterAdminGroupObjectId
  }
}

module registry 'modules/registry.bicep' = {
  scope: rg
  name: 'registry'
  params: {
    location: location
    name: 'acrfabrikam${environmentName}${suffix}'
    tags: tags
    sku: acrSku
    zoneRedundant: zoneRedundant
    kubeletPrincipalId: aks.outputs.kubeletPrincipalId
  }
}

module workloadIdentity 'modules/workload-identity.bicep' = [
  for role in workloadRoles: {
    scope: rg
    name: 'identity-${role}'
    params: {
      location: location
      namePrefix: namePrefix
      tags: tags
      role: role
      oidcIssuerUrl: aks.outputs.oidcIssuerUrl
      kubernetesNamespace: kubernetesNamespace
      helmReleaseName: helmReleaseName
    }
  }
]

// The KEDA add-on's operator reads the workflow queue's length with this identity; the chart's
// TriggerAuthentication names it (podIdentity provider azure-workload, output kedaClientId).
module kedaIdentity 'modules/workload-identity.bicep' = {
  scope: rg
  name: 'identity-keda'
  params: {
    location: location
    namePrefix: namePrefix
    tags: tags
    role: 'keda'
    oidcIssuerUrl: aks.outputs.oidcIssuerUrl
    kubernetesNamespace: kubernetesNamespace
    helmReleaseName: helmReleaseName
    subject: 'system:serviceaccount:kube-system:keda-operator'
  }
}

module keyVault 'modules/keyvault.bicep' = {
  scope: rg
  name: 'keyvault'
  params: {
    location: location
    // Unique per keyVaultGeneration: see the parameter. At most 20 of the 24 characters allowed.
    name: 'kv-fab-${environmentName}-${take(uniqueString(subscription().id, resourceGroupName, string(keyVaultGeneration)), 8)}'
    tags: tags
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
    secretReaderPrincipalIds: [for (role, i) in workloadRoles: workloadIdentity[i].outputs.principalId]
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  scope: rg
  name: 'servicebus'
  params: {
    location: location
    name: 'sb-fabrikam-${environmentName}-${suffix}'
    tags: tags
    sku: serviceBusSku
    extraQueueNames: serviceBusExtraQueueNames
    queueSenderPrincipalIds: [
      for role in serviceBusQueueSenderRoles: workloadIdentity[indexOf(workloadRoles, role)].outputs.principalId
    ]
    namespaceSenderPrincipalIds: [
      for role in serviceBusSenderRoles: workloadIdentity[indexOf(workloadRoles, role)].outputs.principalId
    ]
    namespaceReceiverPrincipalIds: [
      for role in serviceBusReceiverRoles: workloadIdentity[indexOf(workloadRoles, role)].outputs.principalId
    ]
    queueOwnerPrincipalIds: [
      kedaIdentity.outputs.principalId
    ]
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
  }
}

module redis 'modules/redis.bicep' = {
  scope: rg
  name: 'redis'
  params: {
    location: location
    name: 'redis-fabrikam-${environmentName}-${suffix}'
    tags: tags
    sku: redisSku
    highAvailability: redisHighAvailability
    persistence: redisPersistence
    users: [
      for role in redisRoles: {
        name: role
        principalId: workloadIdentity[indexOf(workloadRoles, role)].outputs.principalId
      }
    ]
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
  }
}

module mongo 'modules/mongo.bicep' = {
  scope: rg
  name: 'mongo'
  params: {
    location: location
    name: 'mongo-fabrikam-${environmentName}-${suffix}'
    tags: tags
    computeTier: mongoComputeTier
    storageSizeGb: mongoStorageSizeGb
    highAvailability: zoneRedundant
    administratorUserName: mongoAdministratorUserName
    administratorPassword: mongoAdministratorPassword
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
  }
}

module postgres 'modules/postgres.bicep' = {
  scope: rg
  name: 'postgres'
  params: {
    location: location
    name: 'psql-fabrikam-${environmentName}-${suffix}'
    tags: tags
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGb: postgresStorageSizeGb
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: postgresGeoRedundantBackup
    zoneRedundant: zoneRedundant
    users: [
      for role in postgresRoles: {
        name: workloadIdentity[indexOf(workloadRoles, role)].outputs.name
        principalId: workloadIdentity[indexOf(workloadRoles, role)].outputs.principalId
      }
    ]
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
  }
}

// Who may call the API: tokens from this tenant for this app registration (see its module).
module apiApp 'modules/api-app-registration.bicep' = {
  scope: rg
  name: 'api-app-registration'
  params: {
    uniqueName: apiAppName
    displayName: 'Fabrikam Drone Delivery API (${environmentName})'
    identifierUri: 'api://${tenant().tenantId}/${apiAppName}'
    internalCallerPrincipalIds: [
      for role in internalCallerRoles: workloadIdentity[indexOf(workloadRoles, role)].outputs.principalId
    ]
  }
}

// Connection settings the pods read from Key Vault (Secrets Store CSI driver). PostgreSQL, Redis and
// Service Bus take Entra tokens from the pod's workload identity, so their URLs carry no password:
// the PostgreSQL user is the role's identity name, the Redis user its principal id.
module keyVaultSecrets 'modules/keyvault-secrets.bicep' = {
  scope: rg
  name: 'keyvault-secrets'
  params: {
    vaultName: keyVault.outputs.name
    secretNames: keyVaultSecretNames
    secretValues: {
      'django-secret-key': djangoSecretKey
      'database-url': 'postgresql://${postgres.outputs.hostName}:5432/${postgres.outputs.databaseName}?sslmode=require'
      'redis-url': 'rediss://${redis.outputs.hostName}:${redis.outputs.port}/0'
      'mongodb-uri': 'mongodb+srv://${mongoAdministratorUserName}:${uriComponent(mongoAdministratorPassword)}@${mongo.outputs.hostName}/?tls=true&authMechanism=SCRAM-SHA-256&retrywrites=false&maxIdleTimeMS=120000'
      'celery-broker-url': 'azureservicebus://DefaultAzureCredential@${serviceBus.outputs.fullyQualifiedNamespace}'
      'applicationinsights-connection-string': monitoring.outputs.appInsightsConnectionString
    }
  }
}

// Outputs feed `helm upgrade --set` (see README.md); the chart marks each with `# bicep-output: <name>`.
output tenantId string = tenant().tenantId
output resourceGroupName string = rg.name
output aksClusterName string = aks.outputs.name
output acrLoginServer string = registry.outputs.loginServer
output keyVaultName string = keyVault.outputs.name
output keyVaultSecretNames array = keyVaultSecretNames
output applicationInsightsConnectionStringSecretName string = applicationInsightsSecretName
output serviceBusFullyQualifiedNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output serviceBusQueueName string = serviceBus.outputs.queueName
output redisHostName string = redis.outputs.hostName
output postgresHostName string = postgres.outputs.hostName
output mongoClusterHostName string = mongo.outputs.hostName
output apiClientId string = apiApp.outputs.clientId
output apiApplicationIdUri string = apiApp.outputs.applicationIdUri
output apiServiceTokenScope string = '${apiApp.outputs.applicationIdUri}/.default'
output kedaClientId string = kedaIdentity.outputs.clientId
output workloadIdentityClientIds object = {
  ingestion: workloadIdentity[indexOf(workloadRoles, 'ingestion')].outputs.clientId
  delivery: workloadIdentity[indexOf(workloadRoles, 'delivery')].outputs.clientId
  package: workloadIdentity[indexOf(workloadRoles, 'package')].outputs.clientId
  dronescheduler: workloadIdentity[indexOf(workloadRoles, 'dronescheduler')].outputs.clientId
  admin: workloadIdentity[indexOf(workloadRoles, 'admin')].outputs.clientId
  workflow: workloadIdentity[indexOf(workloadRoles, 'workflow')].outputs.clientId
  scheduler: workloadIdentity[indexOf(workloadRoles, 'scheduler')].outputs.clientId
  migrate: workloadIdentity[indexOf(workloadRoles, 'migrate')].outputs.clientId
}
@description('Identity name per role: the PostgreSQL login of the roles that use PostgreSQL.')
output workloadIdentityNames object = {
  ingestion: workloadIdentity[indexOf(workloadRoles, 'ingestion')].outputs.name
  delivery: workloadIdentity[indexOf(workloadRoles, 'delivery')].outputs.name
  package: workloadIdentity[indexOf(workloadRoles, 'package')].outputs.name
  dronescheduler: workloadIdentity[indexOf(workloadRoles, 'dronescheduler')].outputs.name
  admin: workloadIdentity[indexOf(workloadRoles, 'admin')].outputs.name
  workflow: workloadIdentity[indexOf(workloadRoles, 'workflow')].outputs.name
  scheduler: workloadIdentity[indexOf(workloadRoles, 'scheduler')].outputs.name
  migrate: workloadIdentity[indexOf(workloadRoles, 'migrate')].outputs.name
}
