<?xml version="1.0" encoding="UTF-8"?>
<DTSControl>
  <Version>1.0</Version>
  <AddressType>DTS</AddressType>
  <MessageType>Data</MessageType>
  <WorkflowId>GPCONNECT_SEND_DOCUMENT</WorkflowId>
  <From_DTS>X26ABC1</From_DTS>
  <To_DTS>GPPROVIDER_9434765919_19550109_Smith</To_DTS>
  <Subject>Online consultation report for Richard Smith, NHS Number: 9434765919, seen at Leeds Urgent Care Centre, Park Row, X26, Version: 1</Subject>
  <LocalId>X26</LocalId>
  <DTSId></DTSId>
  <Compress>Y</Compress>
  <Encrypted>N</Encrypted>
  <StatusRecord>
    <StatusCode></StatusCode>
  </StatusRecord>
</DTSControl>
