// Service Bus namespace and the `deliveryrequests` queue the workflow consumes.
// Local (SAS) auth is off: clients use their workload identity (kombu's DefaultAzureCredential).
param location string
param name string
param tags object
@allowed([
  'Standard'
  'Premium'
])
param sku string
@description('Premium only: messaging units.')
param premiumCapacity int = 1
param queueName string = 'deliveryrequests'
@description('Other queues the app declares (Celery defaults); created up front with the same settings.')
param extraQueueNames array = []
@description('Principal ids allowed to send to the delivery-requests queue only.')
param queueSenderPrincipalIds array
@description('Principal ids allowed to send to any queue of the namespace.')
param namespaceSenderPrincipalIds array
@description('Principal ids allowed to receive from any queue of the namespace.')
param namespaceReceiverPrincipalIds array
@description('Principal ids that read the delivery-requests queue\'s length (the KEDA operator): Data Owner on that queue only, as reading its runtime properties needs the Manage right.')
param queueOwnerPrincipalIds array = []
param privateEndpointSubnetId string
param vnetId string

var senderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var receiverRoleId = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
var ownerRoleId = '090c5cfd-751d-490a-894a-3ce6f1109419'
var isPremium = sku == 'Premium'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
    capacity: isPremium ? premiumCapacity : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    // Only Premium supports private endpoints; Standard stays public but accepts Entra tokens only.
    publicNetworkAccess: isPremium ? 'Disabled' : 'Enabled'
  }
}

// lockDuration PT5M is the Service Bus maximum and covers the workflow's worst-case attempt
// (three service calls with retries); duplicate detection drops a re-sent message with the same
// message id ({deliveryId}:{operation}:{n}).
var queueProperties = {
  lockDuration: 'PT5M'
  maxDeliveryCount: 10
  deadLetteringOnMessageExpiration: true
  requiresDuplicateDetection: true
  duplicateDetectionHistoryTimeWindow: 'PT10M'
  defaultMessageTimeToLive: 'P14D'
  requiresSession: false
  enablePartitioning: false
  maxSizeInMegabytes: 1024
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: queueProperties
}

resource extraQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for extraQueueName in extraQueueNames: {
    parent: namespace
    name: extraQueueName
    properties: queueProperties
  }
]

module endpoint 'private-endpoint.bicep' = if (isPremium) {
  name: 'pe-${name}'
  params: {
    location: location
    tags: tags
    name: name
    serviceResourceId: namespace.id
    groupId: 'namespace'
    privateDnsZoneName: 'privatelink.servicebus.windows.net'
    subnetId: privateEndpointSubnetId
    vnetId: vnetId
  }
}

resource queueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in queueSenderPrincipalIds: {
    name: guid(queue.id, principalId, senderRoleId)
    scope: queue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource queueOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in queueOwnerPrincipalIds: {
    name: guid(queue.id, principalId, ownerRoleId)
    scope: queue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ownerRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource namespaceSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in namespaceSenderPrincipalIds: {
    name: guid(namespace.id, principalId, senderRoleId)
    scope: namespace
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource namespaceReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in namespaceReceiverPrincipalIds: {
    name: guid(namespace.id, principalId, receiverRoleId)
    scope: namespace
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', receiverRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = namespace.name
// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/ (the suffix differs in sovereign clouds).
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
output queueName string = queue.name
